"""The stack's ceiling: a function that does nothing, served by the same hosts as ours."""


def hello(request):
    return "Hello, World!"
