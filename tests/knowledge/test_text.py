from knowledge.text import repair


def test_repairs_mojibake_from_the_roadmap():
    assert repair("Let's Get Advanced! ðŸš€") == "Let's Get Advanced! 🚀"
    assert repair("Backpropagation â€“ the magic") == "Backpropagation – the magic"
    assert repair("Spark Your Mind ðŸ’¡") == "Spark Your Mind 💡"


def test_leaves_clean_text_and_code_alone():
    code = 'model.compile(optimizer="adam", loss=\'sparse_categorical_crossentropy\')  # “quoted” ﬁne'
    assert repair(code) == code
    assert repair("") == ""
    assert repair("naïve café – 🚀") == "naïve café – 🚀"


def test_repair_is_idempotent():
    once = repair("â€œQuotedâ€\x9d and ðŸ˜Ž")
    assert repair(once) == once
    assert "ðŸ" not in once
