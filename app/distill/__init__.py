"""Everything PyTorch: data, models, losses, the method registry and the trainer.

Importing this package (or ``app.distill.methods``) never imports torch: the web
process uses the registry. The torch parts load on demand: ``app.distill.trainer``.
"""
