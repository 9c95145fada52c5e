"""Seeing inside: the backward graph behind a tensor, drawn with matplotlib or written as DOT.

    tg.viz.draw_graph(loss, "graph.png", params=model)   # or .svg; no path: returns the figure
    print(tg.viz.to_dot(loss))                           # for Graphviz's `dot -Tpng`
    tg.viz.save_image_grid(samples, "samples.png")       # and plot_loss_curves (images.py)
    tg.viz.latent_manifold(decode, "manifold.png")       # and latent_scatter (latent.py)

``graph.py`` builds the boxes and arrows, ``draw.py`` lays them out and draws them, ``dot.py``
writes DOT text. matplotlib is imported only when something is drawn.
"""

from tinygen.viz.dot import to_dot
from tinygen.viz.draw import draw_graph, layout
from tinygen.viz.graph import COLLAPSE_ABOVE, Graph, GraphNode, build_graph
from tinygen.viz.images import make_grid, plot_loss_curves, save_image_grid
from tinygen.viz.latent import latent_manifold, latent_scatter

__all__ = ["draw_graph", "to_dot", "build_graph", "layout", "Graph", "GraphNode",
           "COLLAPSE_ABOVE", "make_grid", "save_image_grid", "plot_loss_curves",
           "latent_manifold", "latent_scatter"]
