"""The report as a Korean PDF (A4), drawn with matplotlib in the Nanum Gothic font."""

from __future__ import annotations

import logging
import os
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib import pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from nms.reports.figures import Figures
from nms.reports.period import SEOUL
from nms.reports.sitemap import draw, placed
from nms.reports.tables import DAILY_HEADERS, Table, all_tables, daily_rows, show
from nms.reports.text import CATEGORIES, category_ko, summary

FONT_DIR = Path("/usr/share/fonts/truetype/nanum")
FONT = FONT_DIR / "NanumGothic.ttf"
FONT_BOLD = FONT_DIR / "NanumGothicBold.ttf"
A4 = (8.27, 11.69)
TOP, BOTTOM, LEFT, WIDTH = 0.94, 0.05, 0.08, 0.84
ROW = 0.021  # table row height, in page fractions


class FontMissing(RuntimeError):
    pass


def use_nanum() -> None:
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # a line per embedded glyph table otherwise
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    if not FONT.exists():
        raise FontMissing(f"한글 글꼴이 없습니다: {FONT} (Debian 패키지 'fonts-nanum'을 설치하세요)")
    for path in (FONT, FONT_BOLD):
        if path.exists():
            font_manager.fontManager.addfont(str(path))
    plt.rcParams["font.family"] = font_manager.FontProperties(fname=str(FONT)).get_name()
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["pdf.fonttype"] = 42  # TrueType: text stays text (searchable, copyable)


def _wrap(text: str, columns: int) -> list[str]:
    """Wrap on spaces by display width (Hangul is two columns)."""
    lines, line, width = [], "", 0
    for word in text.split(" "):
        w = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in word)
        if line and width + 1 + w > columns:
            lines.append(line)
            line, width = word, w
        else:
            line, width = (f"{line} {word}" if line else word), width + (1 if line else 0) + w
    if line:
        lines.append(line)
    return lines


class Pages:
    """Flows titles, paragraphs and tables down A4 pages."""

    def __init__(self, pdf: PdfPages, header: str):
        self.pdf, self.header = pdf, header
        self.page: Figure | None = None
        self.y = TOP
        self.number = 0

    def new_page(self) -> Figure:
        self.flush()
        self.page = plt.figure(figsize=A4)
        self.number += 1
        self.page.text(LEFT, 0.975, self.header, fontsize=8, color="#555555")
        self.page.text(LEFT + WIDTH, 0.02, f"- {self.number} -", fontsize=8, ha="right", color="#555555")
        self.y = TOP
        return self.page

    def flush(self) -> None:
        if self.page is not None:
            self.pdf.savefig(self.page)
            plt.close(self.page)
            self.page = None

    def room(self, height: float) -> Figure:
        if self.page is None or self.y - height < BOTTOM:
            return self.new_page()
        return self.page

    def heading(self, text: str, size: int = 14) -> None:
        page = self.room(0.08)
        page.text(LEFT, self.y, text, fontsize=size, weight="bold", va="top")
        self.y -= 0.018 * size / 10 + 0.012

    def paragraph(self, text: str, columns: int = 92) -> None:
        lines = _wrap(text, columns)
        page = self.room(0.02 * len(lines) + 0.01)
        for line in lines:
            page.text(LEFT, self.y, line, fontsize=10, va="top")
            self.y -= 0.02
        self.y -= 0.01

    def table(self, table: Table) -> None:
        height = ROW * (len(table.rows) + 1) + 0.045
        page = self.room(height)
        page.text(LEFT, self.y, table.title, fontsize=11, weight="bold", va="top")
        self.y -= 0.025
        ax = page.add_axes((LEFT, self.y - ROW * (len(table.rows) + 1), WIDTH, ROW * (len(table.rows) + 1)))
        ax.axis("off")
        cells = [[show(v, k) for v, k in zip(row, table.kinds, strict=True)] for row in table.rows]
        drawn = ax.table(cellText=cells, colLabels=table.headers, loc="upper center", cellLoc="right",
                         colLoc="center", bbox=(0, 0, 1, 1))
        drawn.auto_set_font_size(False)
        drawn.set_fontsize(9)
        for (r, c), cell in drawn.get_celld().items():
            if r == 0:
                cell.set_facecolor("#dde6f0")
            if table.kinds[c] == "text":
                cell.set_text_props(ha="left" if r else "center")
        self.y -= ROW * (len(table.rows) + 1) + 0.008
        if table.note:
            page.text(LEFT, self.y, table.note, fontsize=8, color="#444444", va="top")
            self.y -= 0.018
        self.y -= 0.015


def _charts(pages: Pages, fig: Figures) -> None:
    """One chart per category over the days: mean and peak clients (lines), traffic (bars)."""
    page = pages.new_page()
    page.text(LEFT, pages.y, "시설 구분별 일별 이용 추이", fontsize=14, weight="bold", va="top")
    height = (TOP - 0.05 - BOTTOM) / len(CATEGORIES)
    for i, category in enumerate(CATEGORIES):
        rows = daily_rows(fig, category)
        days = [datetime.fromisoformat(str(r[0])) for r in rows]
        ax = page.add_axes((LEFT + 0.02, TOP - 0.05 - (i + 1) * height + 0.03, WIDTH - 0.06, height - 0.05))
        ax.set_title(category_ko(category), fontsize=10, loc="left")
        if not any(r[2] is not None or r[4] is not None for r in rows):
            ax.text(0.5, 0.5, "데이터 없음", ha="center", va="center", transform=ax.transAxes, fontsize=11)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        traffic = ax.twinx()
        # one filled step polygon, not a bar per day: a year has 365 of them
        traffic.fill_between(days, [(r[4] or 0) / 1e9 for r in rows], step="mid", color="#c9d7e8", linewidth=0,
                             label="트래픽 (GB)")
        traffic.set_ylabel("GB", fontsize=8)
        ax.set_zorder(traffic.get_zorder() + 1)
        ax.patch.set_visible(False)
        marker = "." if len(rows) <= 62 else None  # a month's days as dots; a year's as a line
        ax.plot(days, [r[2] if r[2] is not None else float("nan") for r in rows], color="#1f5fa8", marker=marker,
                label=DAILY_HEADERS[2])
        ax.plot(days, [r[3] if r[3] is not None else float("nan") for r in rows], color="#d0532a", marker=marker,
                label=DAILY_HEADERS[3])
        ax.set_ylabel("접속 (명)", fontsize=8)
        locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, formats=["%Y", "%m월", "%d", "%H", "%H:%M",
                                                                                   "%S"]))
        ax.tick_params(labelsize=7)
        traffic.tick_params(labelsize=7)
        if i == 0:
            handles = ax.get_legend_handles_labels()[0] + traffic.get_legend_handles_labels()[0]
            ax.legend(handles=handles, fontsize=7, loc="upper left", ncols=3)
    pages.y = BOTTOM  # the charts fill the page


def _map(pages: Pages, fig: Figures) -> None:
    """Sites as points coloured by their availability over the period, on the district's outline."""
    if not placed(fig.sites):
        return
    height = 0.42
    page = pages.room(height + 0.04)
    page.text(LEFT, pages.y, "사이트별 가용률 지도", fontsize=11, weight="bold", va="top")
    ax = page.add_axes((LEFT, pages.y - 0.03 - height, WIDTH * 0.7, height))
    draw(ax, fig.sites, fig.site_availability)
    pages.y -= height + 0.05


def write_pdf(fig: Figures, path: Path) -> Path:
    use_nanum()
    generated = datetime.fromtimestamp(fig.generated, SEOUL).strftime("%Y-%m-%d %H:%M")
    title = f"금천구 공공와이파이·민원전화 {'월간' if fig.period.kind == 'monthly' else '연간'} 보고서"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".pdf", dir=path.parent)
    os.close(fd)
    try:
        with PdfPages(tmp, metadata={"Title": f"{title} ({fig.period.title})", "Creator": "nms report"}) as pdf:
            pages = Pages(pdf, f"{title} · {fig.period.title} · 작성 {generated} (KST)")
            pages.new_page()
            pages.heading(f"{title}", 18)
            pages.heading(fig.period.title, 14)
            pages.heading("요약", 12)
            pages.paragraph(summary(fig))
            tables = all_tables(fig)
            sections = {"시설현황": "1. 공공와이파이 시설 현황", "가용률": "2. 공공와이파이 가용률",
                        "이용현황": "3. 공공와이파이 이용 현황", "전화": "4. 민원 전화와 직원 보호"}
            seen: set[str] = set()
            for table in tables:
                if table.sheet not in seen:
                    seen.add(table.sheet)
                    if table.sheet == "가용률":
                        pages.new_page()
                    pages.heading(sections[table.sheet], 13)
                pages.table(table)
                if table.title.startswith("가용률 하위"):
                    _map(pages, fig)
                if table.sheet == "이용현황":
                    _charts(pages, fig)
            pages.flush()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
