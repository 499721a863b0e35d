# xmpplab: two commands on a fresh machine with only Python 3.11+:
#   make lab    set up .venv and open the course in JupyterLab (make demo: the headless variant)
#   make test   set up .venv and run every test (peer tests skip with a reason when their programs are missing)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.xmpplab-installed

.PHONY: lab demo test serve bench bench-quick bench-10k soak soak-quick profile peers clean help
help:
	@echo "make lab     set up and open the course in JupyterLab"
	@echo "make demo    set up and run the headless demo (server + two clients, XML shown)"
	@echo "make test    set up and run all tests"
	@echo "make serve   run a server on 127.0.0.1:5222 for example.com (Ctrl-C stops it)"
	@echo "make bench   run the benchmarks against xmpplab, Prosody and ejabberd (writes benchmarks/RESULTS.md)"
	@echo "             bench-quick, bench-10k (10,000 connections), soak (10 min), soak-quick (1 min), profile"
	@echo "make peers   install the peer programs (sendxmpp, Prosody, @xmpp/client; needs root)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "xmpplab needs Python 3.11 or newer; this is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/xmpplab lab

demo: $(STAMP)
	$(BIN)/xmpplab demo

test: $(STAMP)
	$(BIN)/python -m pytest

serve: $(STAMP)
	$(BIN)/xmpplab serve --domain example.com --register

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick

bench-10k: $(STAMP)
	$(BIN)/python benchmarks/conns10k.py

soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py --minutes 10

soak-quick: $(STAMP)
	$(BIN)/python benchmarks/soak.py --minutes 1

profile: $(STAMP)
	$(BIN)/python benchmarks/profile_server.py

peers:
	bash .ci/install-peers

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info
