"""The one exception type users see: a one-line message that says what is wrong and what to do."""


class UserError(Exception):
    """Bad input, bad config or a missing resource. The CLI prints the message on one line, exit 2."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class Interrupted(Exception):
    """Ctrl-C, honoured at a chunk boundary: finished chunks are journaled, so the run resumes."""

    exit_code = 130

    def __init__(self, where: str):
        self.where = where
        super().__init__(f"interrupted after {where}; finished work is saved: run the same "
                         "command again to resume (--restart to start over)")
