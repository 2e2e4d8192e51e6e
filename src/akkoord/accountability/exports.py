"""Exports of the processing register: CSV, JSON and PDF (HTML is a template).

All read the plain register data (``register.build_register`` or a saved
version's content), so every format says the same.
"""

from __future__ import annotations

import csv
import io
import json

from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF

# Characters outside latin-1 that appear in Dutch texts, for the PDF core fonts.
_LATIN1_FALLBACKS = str.maketrans(
    {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "€": "EUR"}
)


def _columns() -> list[tuple[str, str]]:
    return [
        ("name", _("Processing activity")),
        ("purposes", _("Purposes")),
        ("legal_basis", _("Legal basis")),
        ("persons", _("Categories of persons")),
        ("data_categories", _("Categories of personal data")),
        ("source", _("Source")),
        ("recipients", _("Recipients")),
        ("processors", _("Processors")),
        ("transfers", _("Transfers outside the EU")),
        ("retention", _("Retention")),
    ]


def _processor_text(processor: dict) -> str:
    text = f"{processor['name']} ({processor['country'] or '?'})"
    if processor["flagged"]:
        text += " - " + _("NO TRANSFER SAFEGUARD")
    elif processor["outside_eea"]:
        text += f" - {processor['safeguard']} {processor['safeguard_detail']}".rstrip()
    return text


def activity_row(activity: dict) -> dict[str, str]:
    return {
        "name": activity["name"],
        "purposes": activity["purposes"],
        "legal_basis": activity["legal_basis"],
        "persons": activity["persons"],
        "data_categories": ", ".join(activity["data_categories"]),
        "source": activity["source"],
        "recipients": activity["recipients"],
        "processors": "; ".join(_processor_text(p) for p in activity["processors"]),
        "transfers": "; ".join(_processor_text(p) for p in activity["transfers"]) or _("none"),
        "retention": _("%(days)s days: %(reason)s")
        % {"days": activity["retention_days"], "reason": activity["retention_reason"]},
    }


def register_csv(data: dict) -> str:
    """One row per processing activity; controller and DPO in leading comment-free rows."""
    with translation.override(data["language"]):
        out = io.StringIO()
        columns = _columns()
        writer = csv.writer(out)
        writer.writerow([label for _key, label in columns])
        for activity in data["activities"]:
            row = activity_row(activity)
            writer.writerow([_safe_cell(row[key]) for key, _label in columns])
        return out.getvalue()


def _safe_cell(value: str) -> str:
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def register_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def _latin1(text: str) -> str:
    return str(text).translate(_LATIN1_FALLBACKS).encode("latin-1", "replace").decode("latin-1")


class _RegisterPDF(FPDF):
    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 8, _latin1(f"{self.page_no()}"), align="C")


def register_pdf(data: dict, *, title: str = "") -> bytes:
    """A printable PDF of the register, with a core font (no downloads, latin-1)."""
    with translation.override(data["language"]):
        pdf = _RegisterPDF(format="A4")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin

        def heading(text: str, size: int = 14) -> None:
            pdf.set_font("Helvetica", style="B", size=size)
            pdf.multi_cell(width, 8, _latin1(text), new_x="LMARGIN", new_y="NEXT")

        def line(label: str, value: str) -> None:
            pdf.set_font("Helvetica", style="B", size=9)
            pdf.multi_cell(width, 5, _latin1(label), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=9)
            pdf.multi_cell(width, 5, _latin1(value or "-"), new_x="LMARGIN", new_y="NEXT")

        heading(title or _("Processing register"), 16)
        controller = data["controller"]
        heading(_("Controller"), 12)
        line(_("Name"), controller["name"])
        line(_("Address"), controller["address"])
        line(_("E-mail"), controller["email"])
        line(_("Chamber of Commerce number (KvK)"), controller["chamber_of_commerce"])
        dpo = data["dpo"]
        line(
            _("Data protection officer"),
            f"{dpo['name']} {dpo['email']}".strip() if dpo else _("none appointed"),
        )
        line(
            _("Where the data is stored"),
            f"{data['storage']['location']} ({data['storage']['country']})",
        )
        line(_("Security measures"), data["security"])
        for activity in data["activities"]:
            pdf.ln(3)
            heading(activity["name"], 12)
            row = activity_row(activity)
            for key, label in _columns()[1:]:
                line(label, row[key])
        pdf.ln(3)
        heading(_("Processors and where they store data"), 12)
        for processor in data["processors"]:
            line(processor["name"], f"{processor['service']}: {_processor_text(processor)}")
        pdf.ln(3)
        heading(_("Retention per data category"), 12)
        for category in data["categories"]:
            line(
                category["label"],
                _("%(days)s days: %(reason)s")
                % {"days": category["retention_days"], "reason": category["reason"]},
            )
        return bytes(pdf.output())
