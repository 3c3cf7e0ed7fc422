from sdehub.cli import main

main()
