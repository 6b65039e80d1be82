"""The import direction of the design: bots -> adapters -> core, never back; adapters never
import each other; core never imports a platform library."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = {"aiogram", "discord"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_no_platform_and_no_adapter(path: Path) -> None:
    bad = {name for name in imports(path) if name.split(".")[0] in PLATFORMS | {"adapters", "bots"}}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", modules("adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_do_not_import_each_other(path: Path) -> None:
    own = path.relative_to(ROOT / "adapters").parts[0]
    others = {
        name
        for name in imports(path)
        if (name.startswith("adapters.") and name.split(".")[1] != own) or name.startswith("bots")
    }
    assert not others, f"{path.relative_to(ROOT)} imports {sorted(others)}"
