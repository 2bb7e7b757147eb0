"""Python source without its comments and docstrings, line for line.

The pool VDUs' user data carries mecpool.rserpool (Nova's limit: every byte there costs
about 2.4); its comments and docstrings are a fifth of it and compress worst.  Each
comment is cut and each docstring becomes ``""`` followed by as many empty lines as it
had, so the code is the repository's, statement for statement, on the same line numbers
(a traceback on a VDU points at the repository's lines).
"""

import ast
import io
import tokenize


def _without_comments(text):
    lines = text.split("\n")
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column].rstrip()
    return "\n".join(lines)


def docstring_nodes(tree):
    """The docstring expressions of a module, class or function (first statement, a str)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                yield first


def _without_docstrings(text):
    # ast's columns count UTF-8 bytes: cut on the encoded lines.
    lines = [line.encode("utf-8") for line in text.split("\n")]
    for node in sorted(docstring_nodes(ast.parse(text)), key=lambda n: n.lineno, reverse=True):
        first, last = node.lineno - 1, node.end_lineno - 1
        lines[first] = lines[first][:node.col_offset] + b'""' + lines[last][node.end_col_offset:]
        for index in range(first + 1, last + 1):
            lines[index] = b""
    return "\n".join(line.decode("utf-8") for line in lines)


def strip(text):
    """``text`` (Python source) without comments and with empty docstrings, same lines."""
    return _without_docstrings(_without_comments(text))
