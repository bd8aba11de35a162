"""Dataset folders turned into the formats of the training and evaluation frameworks."""
