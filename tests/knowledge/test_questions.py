from knowledge.questions import question_parts


def test_two_part_questions_split_at_the_second_question():
    assert question_parts("What does backpropagation do, and how does dropout fight overfitting?") == [
        "What does backpropagation do",
        "how does dropout fight overfitting",
    ]
    assert question_parts("What is dropout? How does batch norm help?") == ["What is dropout", "How does batch norm help"]
    assert question_parts("how do I use torch.nn.LSTM and what does batch_first do") == [
        "how do I use torch.nn.LSTM",
        "what does batch_first do",
    ]


def test_one_part_questions_stay_whole():
    for question in (
        "what does dropout do?",
        "compare dropout and batch norm",  # "and" inside a noun phrase
        "what is and is not allowed",  # a fragment shorter than a question
    ):
        assert question_parts(question) == [question]


def test_a_follow_up_that_points_back_is_the_same_topic_and_stays_whole():
    for question in (
        "Who came up with the perceptron, and why can't it solve XOR?",
        "Can a network fit random labels, and what does that say about generalisation?",
        "My model memorises the training set and does badly on new data, what does the roadmap suggest?",
    ):
        assert question_parts(question) == [question]
