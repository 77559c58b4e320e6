"""The wheel, not only the editable install: installed in a fresh venv, it has every prompt, notice and
data file, and loads them."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LIBRARY = ROOT / "knowledge" / "library"
EXPECTED_LIBRARY = sorted(p.relative_to(LIBRARY).as_posix() for p in LIBRARY.rglob("*") if p.is_file())

CHECK = (
    f"EXPECTED_LIBRARY = {EXPECTED_LIBRARY!r}\n"
    + """
import pathlib, sys
import bot, bot.prompts as prompts
from knowledge.glossary import load_glossary
from bot.settings import LIBRARY_DIR
here = pathlib.Path(sys.prefix).resolve()
assert pathlib.Path(bot.__file__).resolve().is_relative_to(here), bot.__file__
loaded = prompts.all_prompts()
notices = prompts.all_notices()
assert {p.name for p in loaded} >= {"ask", "translate_gov", "translate_tech", "summarize", "review", "decision_draft"}
assert [n.name for n in notices] == ["blackout"]
for prompt in loaded:
    prompt.render(**{name: "x" for name in prompt.variables})
glossary = load_glossary()
assert len(glossary.terms) > 3000, len(glossary.terms)
shipped = sorted(p.relative_to(LIBRARY_DIR).as_posix() for p in LIBRARY_DIR.rglob("*") if p.is_file())
assert shipped == EXPECTED_LIBRARY, shipped
print(len(loaded), len(notices), len(glossary.terms))
"""
)


def test_an_installed_wheel_has_and_loads_every_prompt(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("citybridge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "prompts/ask.yaml" in names and "prompts/notices/blackout.yaml" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    # The dependencies come from this environment (appended after the venv's own site-packages, so the
    # wheel's packages win and the editable install's finder is never loaded); no network is needed.
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "citybridge-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    checked = subprocess.run(
        [str(python), "-c", CHECK], capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stderr[-3000:]
