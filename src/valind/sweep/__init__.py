"""Scale-out: sweep grids (`grid`), cost plans (`plan`), the Ray executor and the Slurm export."""
