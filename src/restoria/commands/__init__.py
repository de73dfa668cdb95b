"""The commands behind the CLI: each reads inputs, calls the inference or data code, writes outputs."""
