from akkoord.cli import main

main()
