from translate_synth.cli import main

if __name__ == "__main__":  # guarded: scoring worker processes (spawn) import this module
    main()
