from bots.cli import main

main()
