import QtopGraph
print("qtop")
