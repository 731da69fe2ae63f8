from tonalite.cli import main

main()
