"""Numbers published by the comparative study, for side-by-side reports.

Baktash, Natale & Viennot (2019), "A Comparative Study of Neural Network
Compression", Table 1 (docs/methods.md#table1): MagL2, 784-100-10, test
accuracy in % (mean, std over 5 runs), per fraction of edges removed and
data set.
"""

# The study's four data sets, in the order of its tables' columns.
STUDY_DATASETS = ("mnist", "mnist-back-image", "mnist-back-rand", "mnist-rot")

# sparsity: (mnist, mnist-back-image, mnist-back-rand, mnist-rot), each (mean, std)
TABLE1 = {
    0.0: ((97.65, 0.11), (82.04, 0.13), (88.44, 0.23), (89.16, 0.56)),
    0.5: ((97.69, 0.05), (82.43, 0.12), (88.33, 0.38), (88.72, 0.45)),
    0.9: ((96.99, 0.18), (81.87, 0.54), (88.15, 0.64), (86.75, 0.37)),
    0.95: ((96.62, 0.23), (81.80, 0.41), (87.84, 0.47), (85.41, 0.58)),
    0.97: ((96.02, 0.25), (80.92, 0.52), (87.16, 0.41), (82.75, 0.38)),
    0.98: ((95.52, 0.13), (79.92, 0.55), (85.10, 0.18), (79.00, 0.48)),
    0.985: ((94.94, 0.19), (78.71, 0.66), (83.40, 0.23), (75.55, 0.21)),
    0.988: ((94.50, 0.18), (77.62, 0.36), (81.38, 0.32), (72.00, 0.50)),
    0.989: ((94.54, 0.16), (76.89, 0.44), (80.56, 0.39), (70.51, 0.41)),
    0.99: ((94.31, 0.17), (75.98, 0.45), (79.57, 0.34), (68.76, 1.09)),
    0.993: ((93.00, 0.22), (72.16, 1.04), (75.14, 0.24), (62.17, 1.55)),
    0.995: ((91.09, 0.20), (68.17, 0.41), (69.15, 0.66), (53.97, 0.39)),
    0.997: ((84.69, 1.01), (58.45, 3.05), (59.11, 2.19), (41.80, 2.65)),
    0.998: ((74.25, 2.14), (47.30, 2.30), (45.54, 1.79), (32.98, 1.86)),
}


def paper_cell(target, dataset, sparsity):
    """(mean, std) in % that the paper reports for a cell, or None where we have no number."""
    if target != "table1" or dataset not in STUDY_DATASETS:
        return None
    row = TABLE1.get(round(sparsity, 6))
    return None if row is None else row[STUDY_DATASETS.index(dataset)]
