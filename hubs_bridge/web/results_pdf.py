"""The results as a PDF (A4), written by fpdf2: pure Python, no browser on the server.

The text is set in DejaVu Sans, shipped with the pages
(``pages/static/fonts``, licence beside it): the PDF standard fonts know only
Latin-1-like encodings, and German typography („…“, –) and visitors' texts in
other scripts need more. fpdf2 embeds only the glyphs used.

Texts from people are written as plain text (fpdf2's ``markdown`` stays off),
so ``**`` or ``<b>`` in a question prints as typed. Characters the font lacks
(some emoji) print as the replacement character instead of vanishing.

The chart of attendance over time is drawn here with lines: fpdf2's SVG import
does not take the page's chart (text, transforms) faithfully.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from fpdf import FPDF, FontFace, XPos, YPos
from fpdf.fonts import TTFFont

from hubs_bridge.core.attendance import AttendanceSample
from hubs_bridge.core.calendar import BERLIN
from hubs_bridge.web.charts import COLOURS, DASHES, Series, series_of
from hubs_bridge.web.pages.render import STATIC_DIR
from hubs_bridge.web.results_view import PollView, ResultsView, number

FONTS_DIR = STATIC_DIR / "fonts"
FONT = "DejaVu"
REGULAR = FONTS_DIR / "DejaVuSans.ttf"
BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
REPLACEMENT = "\ufffd"

Colour = tuple[int, int, int]
# The pages' colours (pages/static/css/tokens.css), so print and screen look alike.
INK = (23, 32, 30)  # --fg
MUTED = (74, 86, 84)  # --muted
BRAND = (14, 94, 85)  # --brand, the green of Soest's sandstone
LINE = (207, 217, 214)  # --line
SOFT = (227, 240, 236)  # --brand-soft: answers, and the empty part of a bar


def _rgb(colour: str) -> Colour:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


class _Document(FPDF):
    def __init__(self, view: ResultsView) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.view = view
        self.add_font(FONT, "", str(REGULAR))
        self.add_font(FONT, "B", str(BOLD))
        # What both faces can draw: a text may be set in either.
        faces = [self.fonts[FONT.lower() + style] for style in ("", "B")]
        cmaps = [set(face.cmap) for face in faces if isinstance(face, TTFFont)]
        self._covered = frozenset(set.intersection(*cmaps))
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=18)
        self.set_title(self.plain(f"{view.t('results.title')}: {view.title}"))
        self.set_lang(view.lang)
        self.set_creator("hubs-bridge")

    def plain(self, value: str) -> str:
        """``value`` with characters the font cannot draw replaced, so none silently vanishes."""
        covered = self._covered
        return "".join(c if ord(c) in covered or c in "\n\t" else REPLACEMENT for c in value)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.plain(self.view.title), align="L")
        self.set_x(self.l_margin)
        pages = self.view.t("results.pdf.page", page=self.page_no(), pages="{nb}")
        self.cell(0, 5, pages, align="R")

    # --- building blocks -----------------------------------------------------------------

    def text_block(
        self, value: str, size: float = 10, bold: bool = False, colour: Colour = INK
    ) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(
            0, size * 0.5, self.plain(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )

    def heading(self, value: str) -> None:
        if self.will_page_break(30):  # a heading never ends a page alone
            self.add_page()
        self.ln(4)
        self.set_font(FONT, "B", 14)
        self.set_text_color(*BRAND)
        self.cell(0, 8, self.plain(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*BRAND)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(3)

    def keep(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit: items are not cut in two."""
        if self.will_page_break(height):
            self.add_page()


def _head(pdf: _Document, view: ResultsView) -> None:
    pdf.text_block(view.t("results.eyebrow").upper(), 8, bold=True, colour=BRAND)
    pdf.ln(1)
    pdf.text_block(view.title, 20, bold=True)
    pdf.ln(2)
    pdf.text_block(f"{view.t('results.when.label')}: {view.when}", 10)
    pdf.text_block(f"{view.t('results.rooms.label')}: {view.rooms}", 10)
    if view.description:
        pdf.ln(2)
        pdf.text_block(view.description, 10)
    pdf.ln(1)
    pdf.text_block(view.published, 8, colour=MUTED)
    pdf.ln(4)
    width = (pdf.epw - 3 * 4) / 4
    top = pdf.get_y()
    for i, figure in enumerate(view.figures):
        x = pdf.l_margin + i * (width + 4)
        pdf.set_draw_color(*LINE)
        pdf.set_line_width(0.3)
        pdf.rect(x, top, width, 18, round_corners=True, corner_radius=1.5)
        pdf.set_xy(x + 3, top + 2)
        pdf.set_font(FONT, "B", 16)
        pdf.set_text_color(*BRAND)
        pdf.cell(width - 6, 8, figure.value)
        pdf.set_xy(x + 3, top + 10)
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*MUTED)
        pdf.cell(width - 6, 5, pdf.plain(figure.label))
    pdf.set_xy(pdf.l_margin, top + 22)


def _attendance(pdf: _Document, view: ResultsView, samples: Sequence[AttendanceSample]) -> None:
    pdf.heading(view.t("results.nav.attendance"))
    pdf.text_block(view.t("results.attendance.intro"), 8, colour=MUTED)
    pdf.ln(2)
    if not view.measured:
        pdf.text_block(view.t("results.attendance.none"), 10, colour=MUTED)
        return
    keys = ("area", "peak", "peak_at", "unique", "web", "hubs", "dwell")
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*LINE)
    with pdf.table(
        col_widths=(30, 14, 10, 14, 12, 12, 18),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", color=MUTED),
        line_height=5,
        padding=(1, 1),
    ) as table:
        header = table.row()
        for key in keys:
            header.cell(pdf.plain(view.t(f"results.attendance.{key}")))
        for row in view.reach:
            cells = table.row(style=FontFace(emphasis="BOLD") if row.whole else None)
            for value in (
                row.area,
                row.peak,
                row.peak_at,
                row.unique,
                row.web,
                row.hubs,
                row.dwell,
            ):
                cells.cell(pdf.plain(value))
    lines = series_of(samples, view.series_titles)
    if any(line.points for line in lines):
        pdf.ln(4)
        pdf.keep(75)
        pdf.text_block(view.t("results.attendance.chart"), 10, bold=True)
        pdf.ln(1)
        _chart(pdf, lines, view)


def _chart(pdf: _Document, lines: Sequence[Series], view: ResultsView) -> None:
    """Attendance over time: one line per room, a y axis of people, start and end times."""
    left, top = pdf.l_margin + 10, pdf.get_y() + 2
    width, height = pdf.epw - 10, 50
    points = [p for line in lines for p in line.points]
    start = min(at for at, _ in points)
    end = max(max(at for at, _ in points), start + timedelta(minutes=1))
    most = max(1, max(n for _, n in points))
    span = (end - start).total_seconds()

    def x_of(at: datetime) -> float:
        return left + (at - start).total_seconds() / span * width

    def y_of(n: int) -> float:
        return top + height - n / most * height

    pdf.set_font(FONT, "", 7)
    pdf.set_text_color(*MUTED)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(*LINE)
    for n in sorted({0, most // 2, most}):
        pdf.line(left, y_of(n), left + width, y_of(n))
        pdf.set_xy(pdf.l_margin, y_of(n) - 2)
        pdf.cell(8, 4, number(n, view.lang), align="R")
    for at, align in ((start, "L"), (end, "R")):
        pdf.set_xy(x_of(at) - (30 if align == "R" else 0), top + height + 1)
        pdf.cell(30, 4, at.astimezone(BERLIN).strftime("%H:%M"), align=align)
    for i, line in enumerate(lines):
        pdf.set_draw_color(*_rgb(COLOURS[i % len(COLOURS)]))
        pdf.set_line_width(0.6)
        # The page chart's dash patterns (in px), scaled to mm: lines apart without colour.
        dash = DASHES[i % len(DASHES)].split()
        if dash:
            pdf.set_dash_pattern(dash=float(dash[0]) / 3, gap=float(dash[1]) / 3)
        else:
            pdf.set_dash_pattern()
        pdf.polyline([(x_of(at), y_of(n)) for at, n in line.points])
    pdf.set_dash_pattern()
    pdf.set_xy(pdf.l_margin, top + height + 7)
    for i, line in enumerate(lines):
        x, y = pdf.get_x(), pdf.get_y()
        pdf.set_draw_color(*_rgb(COLOURS[i % len(COLOURS)]))
        pdf.set_line_width(1.2)
        pdf.line(x, y + 2, x + 6, y + 2)
        pdf.set_xy(x + 8, y)
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*INK)
        label = pdf.plain(line.title)
        pdf.cell(pdf.get_string_width(label) + 6, 4, label)
    pdf.set_xy(pdf.l_margin, pdf.get_y() + 8)


def _questions(pdf: _Document, view: ResultsView) -> None:
    pdf.heading(view.t("results.nav.questions"))
    pdf.text_block(view.t("results.questions.intro"), 8, colour=MUTED)
    pdf.ln(2)
    if not view.questions:
        pdf.text_block(view.t("results.questions.none"), 10, colour=MUTED)
    for q in view.questions:
        pdf.keep(22)
        top = pdf.get_y()
        pdf.set_xy(pdf.l_margin, top)
        pdf.set_font(FONT, "B", 12)
        pdf.set_text_color(*BRAND)
        pdf.cell(12, 6, q.count, align="C")
        pdf.set_xy(pdf.l_margin + 14, top)
        pdf.set_font(FONT, "B", 10.5)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 5.2, pdf.plain(q.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(pdf.l_margin + 14)
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*MUTED)
        meta = f"{q.votes} · {q.status} · {q.where}"
        pdf.multi_cell(0, 4.5, pdf.plain(meta), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for key, said in (("answer", q.answer), ("reply", q.reply)):
            if not said:
                continue
            pdf.ln(1)
            pdf.set_x(pdf.l_margin + 14)
            pdf.set_fill_color(*SOFT)
            pdf.set_font(FONT, "B", 8)
            pdf.set_text_color(*BRAND)
            pdf.cell(
                0,
                5,
                pdf.plain(view.t(f"results.questions.{key}")),
                fill=True,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.set_x(pdf.l_margin + 14)
            pdf.set_font(FONT, "", 9.5)
            pdf.set_text_color(*INK)
            pdf.multi_cell(
                0,
                4.8,
                pdf.plain(said),
                align="L",
                fill=True,
                padding=(0, 1, 1, 1),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
        pdf.ln(2)
        pdf.set_draw_color(*LINE)
        pdf.set_line_width(0.2)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(2)
    if view.not_approved:
        pdf.text_block(view.not_approved, 8, colour=MUTED)


def _poll(pdf: _Document, view: ResultsView, poll: PollView) -> None:
    pdf.keep(20 + 6 * min(len(poll.options), 10))
    pdf.text_block(poll.question, 11, bold=True)
    meta = " · ".join([poll.kind, poll.respondents] + ([poll.average] if poll.average else []))
    pdf.text_block(meta, 8, colour=MUTED)
    pdf.ln(1.5)
    if poll.hidden:
        pdf.text_block(poll.hidden, 9, colour=MUTED)
    elif not poll.options:
        pdf.text_block(view.t("results.polls.no_words"), 9, colour=MUTED)
    label_w, figures_w = pdf.epw * 0.38, 24
    bar_w = pdf.epw - label_w - figures_w - 4
    for option in () if poll.hidden else poll.options:
        top = pdf.get_y()
        pdf.set_xy(pdf.l_margin, top)
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(
            label_w, 4.6, pdf.plain(option.label), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        bottom = pdf.get_y()
        x = pdf.l_margin + label_w + 2
        pdf.set_fill_color(*SOFT)
        pdf.rect(x, top + 0.9, bar_w, 2.8, style="F")
        pdf.set_fill_color(*BRAND)
        if option.percent > 0:
            pdf.rect(x, top + 0.9, bar_w * option.percent / 100, 2.8, style="F")
        pdf.set_xy(x + bar_w + 2, top)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(figures_w, 4.6, f"{option.share} ({option.count})", align="R")
        pdf.set_xy(pdf.l_margin, max(bottom, top + 4.6) + 1)
    pdf.ln(4)


def _polls(pdf: _Document, view: ResultsView) -> None:
    pdf.heading(view.t("results.nav.polls"))
    if not view.polls:
        pdf.text_block(view.t("results.polls.none"), 10, colour=MUTED)
    for poll in view.polls:
        _poll(pdf, view, poll)


def _announcements(pdf: _Document, view: ResultsView) -> None:
    pdf.heading(view.t("results.nav.announcements"))
    if not view.announcements:
        pdf.text_block(view.t("results.announcements.none"), 10, colour=MUTED)
    for a in view.announcements:
        pdf.keep(14)
        pdf.text_block(f"{a.when} · {a.where}", 8, bold=True, colour=MUTED)
        pdf.text_block(a.text, 10)
        pdf.ln(2.5)


def render_pdf(
    view: ResultsView, samples: Sequence[AttendanceSample], published_at: datetime
) -> bytes:
    """The whole report as a PDF; the same view gives the same bytes (dated by publication)."""
    pdf = _Document(view)
    pdf.set_creation_date(published_at)
    pdf.add_page()
    _head(pdf, view)
    _attendance(pdf, view, samples)
    _questions(pdf, view)
    _polls(pdf, view)
    _announcements(pdf, view)
    pdf.ln(4)
    pdf.text_block(view.t("results.footer"), 7.5, colour=MUTED)
    return bytes(pdf.output())
