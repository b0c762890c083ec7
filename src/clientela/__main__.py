"""``python -m clientela``: same as the ``clientela`` console script."""

from clientela.cli import main

main()
