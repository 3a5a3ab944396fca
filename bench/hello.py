"""The stack's ceiling: a function that does nothing, served by the same hosts as the service's."""


def hello(request):
    return "Hello, World!"
