"""Reading a JSON or YAML specification file (a marketing-mix config, expert knowledge) into a mapping."""

from __future__ import annotations

import json
import os
from typing import Any, Union

__all__ = ["read_spec"]


def read_spec(path: Union[str, os.PathLike], what: str, *, json_fallback: bool = False) -> dict[str, Any]:
    """The mapping stored in a ``.json``, ``.yaml`` or ``.yml`` file; an empty file is ``{}``.

    Args:
        path: the file.
        what: what the file is (``"config"``, ``"knowledge"``), named in error messages.
        json_fallback: read any other extension as JSON instead of refusing it.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a folder, an unsupported extension, invalid JSON/YAML, or a top level that is
            not a mapping; the message names the file.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "k.yaml"
        >>> _ = p.write_text("required:\\n  - [a, b]\\n")
        >>> read_spec(p, "knowledge")
        {'required': [['a', 'b']]}
    """
    text = str(path)
    lower = text.lower()
    is_yaml = lower.endswith((".yaml", ".yml"))
    if not (is_yaml or lower.endswith(".json") or json_fallback):
        raise ValueError(f"{what} file {text} must end in .json, .yaml or .yml")
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} file not found: {text}") from None
    except IsADirectoryError:
        raise ValueError(f"{what} file {text} is a folder; give the path of a .json or .yaml file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{what} file {text} is not UTF-8 text") from None
    if is_yaml:
        import yaml

        try:
            spec = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise ValueError(f"{what} file {text} is not valid YAML: {e}") from None
    else:
        try:
            spec = json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError as e:
            raise ValueError(f"{what} file {text} is not valid JSON: {e}") from None
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise ValueError(
            f"{what} file {text} must hold a mapping of keys to values at the top level; got a {type(spec).__name__}"
        )
    return spec
