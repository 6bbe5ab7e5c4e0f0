.PHONY: install test lint type bench serve

install:
	pip install -e '.[test]'

test:
	pytest -q

lint:
	ruff check rivulet tests bench tools
	ruff format --check rivulet tests bench tools

type:
	mypy

bench:
	python bench/run.py

serve:
	rivulet serve
