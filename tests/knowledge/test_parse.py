from knowledge.parse import TutorNodeParser, split_blocks, token_counter
from knowledge.readers.files import load_paths, make_document
from tests.knowledge.conftest import ROADMAP


def _roadmap_nodes(**kw):
    docs, _ = load_paths([ROADMAP], feed="roadmap")
    return TutorNodeParser(**kw)(docs)


def test_roadmap_sections_are_heading_paths():
    nodes = _roadmap_nodes(chunk_size=256, chunk_overlap=32)
    sections = [n.metadata["section"] for n in nodes]
    cnn = "Deep Learning for Data Science: Let's Get Advanced! 🚀 > Code Snippets (Python - TensorFlow/Keras) > Example: Simple CNN for Image Classification (using Keras)"
    assert cnn in sections
    # The single H1 is the title, not part of any path; "/" inside a heading is not a separator.
    assert not any(s.startswith("Data Science Roadmap") for s in sections)
    assert all(n.metadata["title"] == "Data Science Roadmap 2025 - Core Skills: Deep Learning" for n in nodes)
    # Python comments inside the snippets are not headings.
    assert not any("Define the model" in s for s in sections)
    cnn_text = "\n".join(n.text for n in nodes if n.metadata["section"] == cnn)
    assert "layers.Conv2D(32, (3, 3)" in cnn_text and "model.summary()" in cnn_text


def test_code_blocks_are_never_split():
    for size in (64, 128, 256):
        for node in _roadmap_nodes(chunk_size=size, chunk_overlap=8):
            assert node.text.count("```") % 2 == 0, node.text


def test_long_sections_are_split_by_tokens_without_breaking_fences():
    prose = " ".join(f"Sentence number {i} explains gradient descent in plain words." for i in range(120))
    code = "```python\n" + "\n".join(f"x{i} = layer{i}(x{i - 1})" for i in range(1, 40)) + "\n```"
    text = f"# Guide\n\n## Training\n\n{prose}\n\n{code}\n\nAfter the code, more prose.\n"
    doc = make_document(text, source="user:/tmp/guide.md", feed="user", kind="markdown", title="Guide")
    nodes = TutorNodeParser(chunk_size=128, chunk_overlap=16)([doc])
    count = token_counter()
    assert len(nodes) > 4
    code_nodes = [n for n in nodes if "```" in n.text]
    assert len(code_nodes) == 1 and code in code_nodes[0].text
    for node in nodes:
        assert node.metadata["section"] == "Training"
        if node is not code_nodes[0]:
            assert len(count(node.text)) <= 128


def test_node_ids_are_deterministic_and_unique():
    a = [n.node_id for n in _roadmap_nodes()]
    b = [n.node_id for n in _roadmap_nodes()]
    assert a == b and len(set(a)) == len(a)


def test_split_blocks_keeps_fences_whole():
    text = "para one\nstill one\n\n```\ncode\n\nmore code\n```\npara two"
    assert split_blocks(text) == [("para one\nstill one", False), ("```\ncode\n\nmore code\n```", True), ("para two", False)]


def test_paper_notes_roadmap_links_are_flagged_as_navigation_outside_the_embedded_text():
    from llama_index.core.schema import MetadataMode

    from knowledge.readers.papers import load_paper_notes_with_problems

    notes, _ = load_paper_notes_with_problems()
    dropout = [d for d in notes if "srivastava" in d.metadata["source"]]
    nodes = TutorNodeParser(chunk_size=256, chunk_overlap=32)(dropout)
    nav = [n for n in nodes if n.metadata.get("navigation")]
    assert nav and all("Roadmap links" in n.metadata["section"] for n in nav)
    assert any(not n.metadata.get("navigation") for n in nodes)  # the explanations are content
    for node in nav:
        assert "navigation" not in node.get_content(metadata_mode=MetadataMode.EMBED)
        assert "navigation" not in node.get_content(metadata_mode=MetadataMode.LLM)
