"""Services: one async function per user action, taking its dependencies as arguments.

Each write service receives an open UnitOfWork, raises DomainError on bad input (before
changing anything) and commits once at the end. They return plain data, never platform objects.
"""
