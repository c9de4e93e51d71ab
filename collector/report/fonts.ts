// The reports' one font stack: IPAexGothic first (TrueType, so a PDF names it and its text can be
// extracted; docs/report.md "Fonts"), then the other Japanese fonts of Linux and Windows.

export const FONT_STACK = '"IPAexGothic", "IPAGothic", "Noto Sans CJK JP", "Yu Gothic", Meiryo, sans-serif'
