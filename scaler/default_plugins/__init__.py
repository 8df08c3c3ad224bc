"""The core's own components, registered through the same hooks a third-party plugin uses."""
