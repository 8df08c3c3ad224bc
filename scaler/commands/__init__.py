"""The ``scaler`` commands, one module per command group, each registered as a default plugin."""
