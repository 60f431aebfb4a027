"""Questions asked of finished runs: evidences and the Bayes factor (``compare``), whether two runs may be compared
(``comparability``) and agree (``posterior_compare``), the best fit (``fit``), importance reweighting
(``reweight``, ``reweight_results``), the sensitivity of ln B (``sensitivity``), profile likelihoods
(``profiles``) and the paper's quantitative claims (``paper_claims``).
"""
