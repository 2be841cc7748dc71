#!/bin/sh
# Print the interpreter the project environment should use: a Python 3.12 on PATH,
# else pyenv's 3.12, else python3.
if python3.12 -c 'import sys' >/dev/null 2>&1; then command -v python3.12; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V | tail -1)
  if [ -n "$v" ] && [ -x "$(pyenv root)/versions/$v/bin/python3.12" ]; then
    echo "$(pyenv root)/versions/$v/bin/python3.12"; exit 0
  fi
fi
command -v python3
