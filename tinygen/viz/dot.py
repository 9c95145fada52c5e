"""``to_dot``: the graph of ``tinygen.viz.graph`` as Graphviz DOT text.

For those who have Graphviz: ``dot -Tsvg graph.dot -o graph.svg``. The boxes, labels, colours and
arrows are those ``draw_graph`` draws, so the two pictures agree.
"""

from tinygen.viz.graph import build_graph

COLORS = {"output": "#ffe9a8", "op": "#e6e6e6", "leaf": "#cfe3ff", "parameter": "#c8efc8",
          "module": "#ffd8b0"}


def color_of(node):
    """The fill colour of a box: parameters stand out from other leaves."""
    return COLORS["parameter" if node.is_parameter else node.kind]


def to_dot(output, params=None, show_grads=True, expand=(), collapse=None):
    """The backward graph of ``output`` as DOT text; arguments as in ``draw_graph``."""
    graph = build_graph(output, params=params, show_grads=show_grads, expand=expand,
                        collapse=collapse)
    lines = ["digraph tinygen {",
             '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];']
    for node in graph.nodes:
        lines.append(f'  n{node.id} [label="{_escape(node.label)}", '
                     f'fillcolor="{color_of(node)}"];')
    for a, b in graph.edges:
        lines.append(f"  n{a} -> n{b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _escape(text):
    """A label as a DOT string body: quotes and backslashes escaped, lines joined with \\n."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
