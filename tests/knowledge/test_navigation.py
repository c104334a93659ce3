from knowledge.navigation import is_navigation


def test_link_list_headings_are_navigation():
    assert is_navigation("Dropout (Srivastava et al., 2014) > Roadmap links", "- Essential Skills > Regularization.")
    assert is_navigation("See also", "Some words.")
    assert not is_navigation("Dropout > Key idea", "Units are dropped at random during training.")


def test_a_bare_list_of_links_is_navigation_but_prose_with_links_is_not():
    links = "- [PyTorch](https://pytorch.org)\n- [Keras](https://keras.io)\n- <https://jax.dev>"
    assert is_navigation("Tools", links)
    prose = "Dropout is explained in [the paper](https://jmlr.org/x).\n\nIt zeroes units at random.\n- [code](https://a.b)"
    assert not is_navigation("Tools", prose)
