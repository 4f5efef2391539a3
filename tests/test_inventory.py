"""The book's inventory (tecore.papers.inventory) and table display (tecore.papers.display)."""
import numpy as np
import pandas as pd
import pytest

from tecore.papers import display, inventory


def test_every_paper_item_has_a_known_status_and_the_checks_count_cells():
    assert {i.paper for i in inventory.ITEMS} == set(inventory.PAPERS)
    keys = [(i.paper, i.item) for i in inventory.ITEMS]
    assert len(keys) == len(set(keys))
    with pytest.raises(ValueError, match="unknown status"):
        inventory.Item("gbc", "Table 9", "x", "done", "y")
    # the counts the chapters print (nbval checks them there too)
    assert inventory.check("gbc_table3") == (10, 12)
    assert inventory.check("ped_table4") == (115, 120)
    assert inventory.check("gbc_table1") == (1, 32)
    with pytest.raises(ValueError, match="valid"):
        inventory.check("nope")
    with pytest.raises(ValueError, match="inventory check gbc_table3"):
        inventory.confirm("gbc_table3", 12, 12)
    inventory.confirm("gbc_table3", 10, 12)


def test_summary_counts_items_by_status():
    s = inventory.summary()
    assert list(s.columns) == [*inventory.STATUSES, "total"]
    assert s.loc["all papers", "total"] == len(inventory.ITEMS)
    assert (s.drop(index="all papers")[list(inventory.STATUSES)].sum(axis=1) == s.drop(index="all papers")["total"]).all()
    gbc = inventory.table("gbc")
    assert gbc.loc[gbc["item"] == "Table 3", "cells matching"].item() == "10/12"
    with pytest.raises(ValueError, match="unknown paper"):
        inventory.items("nope")


def test_tecore_timings_reads_the_committed_benchmark():
    t = inventory.tecore_timings(["logme", "gbc"])
    assert list(t.index) == ["logme", "gbc"] and (t["tecore_s"] > 0).all()
    assert set(t["N"]) == {3000}
    with pytest.raises(ValueError, match="no benchmark rows"):
        inventory.tecore_timings(size="XXL")


def test_display_table_html_text_and_highlight():
    df = pd.DataFrame({"printed": [0.5, 0.2], "recomputed": [0.5012, 0.25], "match": [True, False]})
    t = display.table(df, highlight="match", caption="cap")
    html = t._repr_html_()
    assert "overflow-x: auto" in html and "0.501" in html and "cap" in html
    style = html.split("</style>")[0]  # Styler's CSS: one rule per styled cell group
    assert "#f8d7da" in style and all(f"row1_col{j}" in style for j in range(3)) and "row0_col" not in style
    assert html == display.table(df, highlight="match", caption="cap")._repr_html_()  # deterministic
    # digits below the shown precision (another CPU's BLAS) give the same HTML; a shown digit does not
    nudged = df.assign(recomputed=df.recomputed + 1e-12)
    assert display.table(nudged, highlight="match", caption="cap")._repr_html_() == html
    moved = df.assign(recomputed=df.recomputed + 1e-3)
    assert display.table(moved, highlight="match", caption="cap")._repr_html_() != html
    assert repr(t).startswith("cap\n") and "0.501" in repr(t)
    mask = np.zeros(df.shape, bool)
    mask[0, 1] = True
    style = display.table(df, highlight=mask)._repr_html_().split("</style>")[0]
    assert "row0_col1" in style and "row1_col" not in style and "row0_col0" not in style
    with pytest.raises(ValueError, match="not a column"):
        display.table(df, highlight="nope")
    with pytest.raises(ValueError, match="shape"):
        display.table(df, highlight=np.zeros((1, 1), bool))
    with pytest.raises(ValueError, match="DataFrame"):
        display.table([1, 2])


def test_glued_figure_is_a_png_whatever_the_backend():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tecore.papers import display

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    img = display.figure_png(fig)
    assert img.data[:8] == b"\x89PNG\r\n\x1a\n" and len(img.data) > 500
    assert img._repr_png_()  # IPython shows it as image/png
    # deterministic: a re-run gives the same bytes (the nbval references stay stable)
    assert display.figure_png(fig).data == img.data
    display.glue("test_fig", fig)  # outside a kernel: glued and closed without error
    assert not plt.fignum_exists(fig.number)
