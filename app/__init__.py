"""Reading notes on knowledge distillation, with live PyTorch demos."""

from pathlib import Path

#: The repository (or installed tree) root: templates/, static/ and notes/ live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
