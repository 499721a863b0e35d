"""The colours and fonts every view uses, in one place (inline CSS, so they survive nbconvert and nbviewer).

All are for light backgrounds the views set themselves, so they read the same in light and dark themes.
"""

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
MONO = "font-family:ui-monospace,Menlo,Consolas,monospace"
MUTED = "#57606a"
BORDER = "#d0d7de"
RED, RED_TEXT, RED_TINT = "#cf222e", "#82071e", "#fff0f0"
AMBER_TEXT, AMBER_TINT = "#7d4e00", "#fff8c5"
GREEN, GREEN_TEXT, GREEN_TINT = "#1a7f37", "#116329", "#eefbf1"
BLACK, BLACK_TINT = "#1f2328", "#f6f8fa"
HIGHLIGHT = "#fff3b0"
