from respgen.cli.app import main

main()
