from lstm_sentiment.cli import main

main()
