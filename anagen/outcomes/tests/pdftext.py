"""Text of an uncompressed WeasyPrint PDF, read through its fonts' ToUnicode maps (tests only)."""

import re


def pdf_text(pdf: bytes) -> str:
    cmap: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", pdf, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            cmap.setdefault(int(src, 16), bytes.fromhex(dst.decode()).decode("utf-16-be", "replace"))
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", pdf, re.S):
        for a, b, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(a, 16), int(b, 16) + 1)):
                cmap.setdefault(code, chr(start + i))
    out = []
    for m in re.finditer(rb"\[([^\]]*?)\]\s*TJ|<([0-9A-Fa-f]+)>\s*Tj", pdf, re.S):
        body = m.group(1) or b"<" + m.group(2) + b">"
        for h in re.findall(rb"<([0-9A-Fa-f]+)>", body):
            s = h.decode()
            out.append("".join(cmap.get(int(s[i:i + 4], 16), "?") for i in range(0, len(s), 4)))
        out.append(" ")
    return "".join(out)
