from wmh.cli.main import app

app(prog_name="wmh")
