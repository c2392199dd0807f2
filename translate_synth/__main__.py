from translate_synth.cli import main

main()
