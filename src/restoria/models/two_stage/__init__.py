from restoria.models.two_stage.model import TwoStageRestorer

__all__ = ["TwoStageRestorer"]
