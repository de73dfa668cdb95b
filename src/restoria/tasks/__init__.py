"""One LightningModule per task; `restoria train` builds the one its config names."""
