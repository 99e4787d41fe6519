"""The one error the rig raises: something about the rig itself (not the code under test) broke."""


class RigError(RuntimeError):
    pass
