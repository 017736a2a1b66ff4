"""The grading pipeline around nbgrader: a bubblewrap sandbox for student kernels, integrity
checks of submissions, and parallel autograding with a single gradebook writer."""
