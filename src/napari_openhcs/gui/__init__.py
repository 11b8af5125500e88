"""The napari side: reader, writer, sample data and widgets (npe2 contributions in napari.yaml).

Only this package imports Qt, napari or magicgui, and only inside its modules: importing
``napari_openhcs.gui`` itself imports none of them.
"""
