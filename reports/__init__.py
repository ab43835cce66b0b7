"""Letters and reports: data assembly (plain dataclasses), then HTML, then PDF.

`reports.pdf` is the only module that imports WeasyPrint. The domain (`referrals`)
never imports this package; create_app() wires it in.
"""
