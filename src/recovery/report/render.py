"""Rendering the monthly report: the notebook template executed and turned into one page.

A collection manager reads the report without Python. The report is a notebook template
shipped inside this package (``recovery/report/templates/monthly_report.ipynb``,
:func:`template_path`) whose code calls the library's public functions and plot
functions; :func:`render_monthly_report` checks the month against the data, injects the
parameters (``report_month``, ``data_path``, ``model_path``, ``config``;
:func:`inject_parameters`), executes the notebook with nbclient, converts it with
nbconvert (code hidden) and wraps it in a standalone page with a table of contents, its
images embedded as base64 — one file, no external resources (:func:`render_notebook`).
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from recovery.config import Config
from recovery.errors import DataError, RecoveryError
from recovery.report.data import check_month_on_disk, data_end_on_disk
from recovery.report.formatting import format_month

__all__ = [
    "TEMPLATE_NAME",
    "template_path",
    "inject_parameters",
    "render_notebook",
    "render_monthly_report",
    "embedded_images",
    "first_screen_figures",
    "source_name",
]

#: File name of the monthly report template in ``recovery/report/templates``.
TEMPLATE_NAME = "monthly_report.ipynb"


def template_path(name: str = TEMPLATE_NAME) -> Path:
    """Path of a notebook template shipped in ``recovery/report/templates``.

    Examples
    --------
    >>> template_path().name
    'monthly_report.ipynb'
    """
    path = Path(str(resources.files("recovery.report") / "templates" / name))
    if not path.is_file():
        raise DataError(f"report template {name} is missing from the package; reinstall recovery")
    return path


def inject_parameters(notebook: Any, parameters: Mapping[str, Any]) -> Any:
    """Insert a cell setting ``parameters`` after the cell tagged ``parameters``.

    Values must be Python literals (text, numbers, None, lists, dicts); the new cell is
    tagged ``injected-parameters`` (the papermill convention).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
    ...                                      nbformat.v4.new_code_cell("print(x)")])
    >>> [c.source for c in inject_parameters(nb, {"x": 2}).cells]
    ['x = 1', 'x = 2', 'print(x)']
    """
    import nbformat

    nb = copy.deepcopy(notebook)
    lines = []
    for name, value in parameters.items():
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} is not a Python identifier")
        lines.append(f"{name} = {value!r}")
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    cell.pop("id", None)
    position = 0
    for i, c in enumerate(nb.cells):
        if "parameters" in c.get("metadata", {}).get("tags", []):
            position = i + 1
            break
    nb.cells.insert(position, cell)
    for i, c in enumerate(nb.cells):  # stable cell ids: same inputs, same output
        c["id"] = f"cell-{i}"
    return nb


def _recovery_error_names() -> set[str]:
    names, stack = set(), [RecoveryError]
    while stack:
        klass = stack.pop()
        names.add(klass.__name__)
        stack.extend(klass.__subclasses__())
    return names


def _execute(nb: Any, workdir: Path, timeout: int, kernel_name: str) -> Any:
    import tempfile

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(workdir)}},
        allow_errors=False,
    )
    # the kernel's own log (e.g. its transport warning) is not for the user; keep it
    # for the error message when the kernel dies
    with tempfile.TemporaryFile(mode="w+") as log:
        try:
            client.execute(stderr=log)
        except CellExecutionError as exc:
            ename = getattr(exc, "ename", "") or ""
            evalue = getattr(exc, "evalue", "") or str(exc)
            if ename in _recovery_error_names():
                raise DataError(evalue) from None
            raise RecoveryError(
                f"the report template failed: {ename}: {evalue} (a bug; run the notebook "
                f"{TEMPLATE_NAME} by hand to see where)"
            ) from exc
        except DeadKernelError as exc:
            log.seek(0)
            tail = log.read()[-1000:]
            raise RecoveryError(f"the notebook kernel died while rendering: {tail}") from exc
    return nb


def _strip_noise(nb: Any) -> Any:
    """Remove warnings (stderr) and empty outputs that do not belong in a report."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [
            o
            for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
    return nb


_HEADING = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.S)

_CSS = """
:root { --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --accent: #1c5d99;
        --good: #1e7b34; --bad: #b42318; --paper: #ffffff; --shade: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Liberation Sans", "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--shade); line-height: 1.5; font-size: 15px; }
header.report-header { background: var(--accent); color: #fff; padding: 22px 32px 18px; }
header.report-header h1 { margin: 0 0 4px; font-size: 26px; }
header.report-header p { margin: 0; opacity: .9; }
.report-layout { display: flex; gap: 24px; max-width: 1280px; margin: 0 auto; padding: 20px 24px; }
nav#toc { flex: 0 0 230px; position: sticky; top: 12px; align-self: flex-start;
          background: var(--paper); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; }
nav#toc h2 { font-size: 15px; margin: 0 0 6px; }
nav#toc ol { margin: 0; padding-left: 20px; }
nav#toc a { color: var(--accent); text-decoration: none; }
nav#toc a:hover { text-decoration: underline; }
main { flex: 1 1 auto; min-width: 0; background: var(--paper); border: 1px solid var(--line);
       border-radius: 6px; padding: 8px 28px 28px; }
main h2 { border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 32px; color: var(--accent); }
main h3 { margin-top: 22px; }
.anchor-link { display: none; }
img { max-width: 100%; height: auto; display: block; margin: 10px 0; }
table.report-table { border-collapse: collapse; margin: 10px 0 16px; font-size: 14px; }
table.report-table caption { text-align: left; font-weight: bold; padding: 4px 0; }
table.report-table th, table.report-table td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: left; }
table.report-table th { background: var(--shade); }
table.report-table .num { text-align: right; font-variant-numeric: tabular-nums; }
table.report-table tbody tr:nth-child(even) { background: #fafbfc; }
td.good { color: var(--good); font-weight: bold; }
td.bad { color: var(--bad); font-weight: bold; }
.report-unavailable, .report-note, .report-warning { border-left: 4px solid #9aa5b1; background: var(--shade);
       padding: 6px 14px; margin: 10px 0; }
.report-unavailable { border-left-color: #c4a000; background: #fffbea; }
.report-warning { border-left-color: var(--bad); background: #fff1f0; }
ul.report-notes li { margin-bottom: 6px; }
.kpi-cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 14px 0 8px; }
.kpi-card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; background: var(--shade); }
.kpi-label { color: var(--muted); font-size: 13px; }
.kpi-value { font-size: 26px; font-weight: bold; font-variant-numeric: tabular-nums; }
.kpi-change { font-size: 13px; color: var(--muted); }
.kpi-change.good { color: var(--good); }
.kpi-change.bad { color: var(--bad); }
.kpi-verdict { font-size: 13px; color: var(--muted); }
.kpi-card.unusual { border-color: var(--ink); }
.kpi-card.unusual .kpi-verdict { color: var(--ink); font-weight: bold; }
h3.notes-head { margin: 14px 0 4px; font-size: 15px; color: var(--muted); }
footer { max-width: 1280px; margin: 0 auto; padding: 0 24px 24px; color: var(--muted); font-size: 13px; }
pre { white-space: pre-wrap; }
@media print { nav#toc { display: none; } body { background: #fff; } }
"""


def _page(body: str, title: str, subtitle: str, footer: str) -> str:
    entries = _HEADING.findall(body)
    toc = "".join(
        f'<li><a href="#{html.escape(i)}">{re.sub(r"<[^>]+>", "", t).strip()}</a></li>'
        for i, t in entries
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header class="report-header" id="top"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(subtitle)}</p></header>\n"
        '<div class="report-layout">\n'
        f'<nav id="toc" aria-label="Contents"><h2>Contents</h2><ol>{toc}</ol></nav>\n'
        f"<main>\n{body}\n</main>\n</div>\n"
        f"<footer>{html.escape(footer)}</footer>\n</body>\n</html>\n"
    )


def _check_standalone(page: str) -> None:
    external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?:[^"]+)"', page)
    if external:  # pragma: no cover - the template never produces them
        raise RecoveryError(f"the report would load external resources: {external[:3]}")


def render_notebook(
    template: str | Path | Any,
    parameters: Mapping[str, Any],
    out_path: str | Path,
    title: str,
    subtitle: str = "",
    footer: str = "",
    timeout: int = 900,
    kernel_name: str = "python3",
    workdir: str | Path | None = None,
    executed_path: str | Path | None = None,
) -> Path:
    """Execute a parameterized notebook and write it as one standalone HTML page.

    Code is hidden; only outputs and prose remain. Images are embedded (base64 PNG);
    the page has its own style sheet and a table of contents built from the ``<h2
    id=...>`` headings of the notebook. Written atomically: on any failure nothing is
    written.

    Parameters
    ----------
    template : str, Path or NotebookNode
    parameters : mapping
        Injected after the cell tagged ``parameters``.
    out_path : str or Path
        The HTML file.
    title, subtitle, footer : str
        Page header and footer text.
    timeout : int
        Seconds allowed per cell.
    kernel_name : str
        Jupyter kernel (the current Python when ``python3``).
    workdir : str or Path, optional
        Working directory of the kernel (default the template's directory).
    executed_path : str or Path, optional
        Also save the executed notebook there (for debugging).

    Returns
    -------
    Path

    Examples
    --------
    >>> render_notebook(template_path(), {"report_month": "2025-12", "data_path": "data/sample"},
    ...                 "out.html", title="Report")  # doctest: +SKIP
    """
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError as exc:  # pragma: no cover - the notebooks extra is missing
        raise RecoveryError(
            f"rendering a report needs nbformat, nbclient, nbconvert and ipykernel ({exc}); "
            "install them with: pip install 'recovery[notebooks]'"
        ) from None
    if isinstance(template, (str, Path)):
        nb = nbformat.read(str(template), as_version=4)
        workdir = workdir or Path(template).parent
    else:
        nb = template
    workdir = Path(workdir or Path.cwd())
    nb = inject_parameters(nb, parameters)
    nb = _strip_noise(_execute(nb, workdir, timeout, kernel_name))
    if executed_path is not None:
        from recovery.data.io import atomic_path

        with atomic_path(executed_path) as tmp:
            nbformat.write(nb, str(tmp))
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    page = _page(body, title, subtitle, footer)
    _check_standalone(page)
    from recovery.data.io import atomic_path

    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out_path


def render_monthly_report(
    data_path: str | Path,
    month: Any,
    out_dir: str | Path,
    model_path: str | Path | None = None,
    config: Config | None = None,
    timeout: int = 900,
    source: str | None = None,
) -> Path:
    """Render the monthly recovery report of one month to ``out_dir/recovery_report_YYYY-MM.html``.

    Parameters
    ----------
    data_path : str or Path
        Portfolio directory (tables as Parquet or CSV, optionally with ``snapshots``).
    month : str or date
        The report month, e.g. ``"2026-10"``; must be a complete month with data.
    out_dir : str or Path
        Directory of the HTML file (created if needed).
    model_path : str or Path, optional
        Directory of saved scorers (model health, scores).
    config : Config, optional
    timeout : int
        Seconds allowed per notebook cell.
    source : str, optional
        How the footer names the data (default :func:`source_name` of ``data_path``):
        never a path of the machine that made the report.

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    DataError
        When the month has no data or lies outside the data; nothing is written.

    Examples
    --------
    >>> from recovery.datasets import sample_path
    >>> render_monthly_report(sample_path(), "2025-12", "reports")  # doctest: +SKIP
    PosixPath('reports/recovery_report_2025-12.html')
    """
    from recovery.version import __version__

    config = config or Config()
    data_path = Path(data_path).resolve()
    target = check_month_on_disk(data_path, month)
    if model_path is not None and not Path(model_path).is_dir():
        raise DataError(f"model directory {model_path} does not exist")
    out = Path(out_dir) / f"recovery_report_{target:%Y-%m}.html"
    parameters = {
        "report_month": f"{target:%Y-%m}",
        "data_path": str(data_path),
        "model_path": str(Path(model_path).resolve()) if model_path else None,
        "config": config.to_dict(),
    }
    data_end = data_end_on_disk(data_path)
    subtitle = f"Month ending {target:%d %B %Y}" + (
        f" · data up to {data_end:%d %B %Y}" if data_end is not None else ""
    )
    return render_notebook(
        template_path(),
        parameters,
        out,
        title=f"Monthly recovery report — {format_month(target)}",
        subtitle=subtitle,
        footer=f"Made with recovery {__version__} from {source or source_name(data_path)}. "
        "Account IDs only; no personal data.",
        timeout=timeout,
        workdir=data_path,
    )


def source_name(location: str | Path) -> str:
    """How a report names its data: as the user gave it, never a path of this machine.

    A relative directory reads as given, an absolute one by its name only; a database
    URL without its password.

    Examples
    --------
    >>> source_name("portfolios/book_2025"), source_name("/home/ana/books/book_2025")
    ('portfolios/book_2025', 'book_2025')
    >>> source_name("postgresql://ana:s3cret@db.example:5432/loans")
    'postgresql://ana:***@db.example:5432/loans'
    """
    from recovery.data.sources import hide_password, is_database_url

    text = str(location)
    if is_database_url(text):
        return hide_password(text)
    path = Path(text)
    return path.name if path.is_absolute() else path.as_posix()


def first_screen_figures(page: str) -> dict[str, Any]:
    """What the first screen of a rendered report shows: its title and the KPI cards.

    For the screenshot in the docs (``docs/report_screenshot.py``) and the test that keeps
    it from drifting.

    Parameters
    ----------
    page : str
        The HTML of a page written by :func:`render_monthly_report`.

    Returns
    -------
    dict
        ``title`` and ``cards``: label → [value, change, verdict].

    Examples
    --------
    >>> page = ('<title>Monthly recovery report — December 2025</title>'
    ...         '<div class="kpi-card normal"><div class="kpi-label">Cure rate</div>'
    ...         '<div class="kpi-value">11.8%</div><div class="kpi-change ">▼ -6.4 pp vs Nov 2025</div>'
    ...         '<div class="kpi-verdict">within normal variation</div></div>')
    >>> first_screen_figures(page)["cards"]
    {'Cure rate': ['11.8%', '▼ -6.4 pp vs Nov 2025', 'within normal variation']}
    """
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    cards = re.findall(
        r'<div class="kpi-label">(.*?)</div><div class="kpi-value">(.*?)</div>'
        r'<div class="kpi-change[^"]*">(.*?)</div><div class="kpi-verdict">(.*?)</div>',
        page,
        re.S,
    )
    return {
        "title": html.unescape(title.group(1)) if title else "",
        "cards": {html.unescape(label): [html.unescape(v) for v in rest] for label, *rest in cards},
    }


def embedded_images(page: str) -> int:
    """Number of base64 PNG images embedded in a rendered page.

    Parameters
    ----------
    page : str
        The HTML of a page written by :func:`render_notebook`.

    Returns
    -------
    int

    Examples
    --------
    >>> embedded_images('<p><img alt="" src="data:image/png;base64,iVBO"></p>')
    1
    """
    return len(re.findall(r'<img[^>]+src="data:image/png;base64,', page))
