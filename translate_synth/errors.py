"""The one exception type users see: a one-line message that says what is wrong and what to do."""


class UserError(Exception):
    """Bad input, bad config or a missing resource. The CLI prints the message on one line, exit 2."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
