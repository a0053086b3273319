from extractor.cli import main

main(prog_name="policykb")
