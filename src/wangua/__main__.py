from wangua.cli import main

main()
