from __future__ import annotations

from scaler.cli import main

main()
