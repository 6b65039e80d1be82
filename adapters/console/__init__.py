"""A terminal chat over the same core: buttons are numbered choices, `/as` switches person."""
